// Swagger UI for /api/v1 (vendored in /static/vendor/swagger-ui-dist-5.35.0): the API's own
// schema only, no validator badge (it would call a third party), nothing from elsewhere.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    tryItOutEnabled: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
