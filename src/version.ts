// Kept in step with package.json by test/version.test.ts; read at build time so start-up reads no file.
export const VERSION = '0.1.0';
