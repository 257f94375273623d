// Copies the front end's static files (HTML, CSS) next to its compiled JavaScript.
import { cpSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

cpSync(fileURLToPath(new URL('../src/web/static', import.meta.url)), fileURLToPath(new URL('../dist/web', import.meta.url)), { recursive: true });
