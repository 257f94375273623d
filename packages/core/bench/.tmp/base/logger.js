/** A logger that drops everything. */
export const silentLogger = {
    debug() { },
    info() { },
    warn() { },
    error() { },
    child() {
        return silentLogger;
    },
};
//# sourceMappingURL=logger.js.map