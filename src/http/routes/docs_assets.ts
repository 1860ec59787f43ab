/**
 * @module The Swagger UI's script and stylesheet, embedded so the docs work offline. Loaded only
 * when someone opens the docs: as module constants they cost every process ~20 MiB of memory.
 */
import swaggerJs from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "text" };

export { swaggerCss, swaggerJs };
