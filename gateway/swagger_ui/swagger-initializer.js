// Starts Swagger UI on the gateway's merged OpenAPI document (a file of its own: the page's
// Content-Security-Policy allows scripts from the gateway only, none inline).
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // "Authorize" with the access_token of POST /api/v1/auth/login; kept for this tab only.
    persistAuthorization: false,
    tryItOutEnabled: false,
    validatorUrl: null,
    displayRequestDuration: true,
    filter: true,
  });
});
