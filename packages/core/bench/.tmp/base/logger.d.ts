/** The structured logger Tickwork writes to; pino, console and most loggers fit it. */
export interface Logger {
    debug(obj: object, msg?: string): void;
    info(obj: object, msg?: string): void;
    warn(obj: object, msg?: string): void;
    error(obj: object, msg?: string): void;
    /** Returns a logger that adds `bindings` to every line. */
    child(bindings: object): Logger;
}
/** A logger that drops everything. */
export declare const silentLogger: Logger;
//# sourceMappingURL=logger.d.ts.map