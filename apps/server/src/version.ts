/** The service's version: in `--version`, the User-Agent of deliveries and the OpenAPI document. Kept equal to package.json by a test. */
export const VERSION = '0.1.0';
