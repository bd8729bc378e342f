// Starts Swagger UI on the API documentation page; a file of its own because the page policy
// forbids inline scripts. The spec URL comes from the page, and nothing is fetched from elsewhere
// (no online validator badge).
"use strict";
(function () {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
