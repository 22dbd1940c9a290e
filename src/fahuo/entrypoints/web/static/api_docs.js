// Starts Swagger UI on /docs (a file, not an inline script: the page's CSP allows no inline code).
(function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null, // no badge fetched from validator.swagger.io: nothing leaves this server
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
