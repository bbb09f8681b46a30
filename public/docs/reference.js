// The reference page: Swagger UI over this deployment's own /api/openapi.json. Nothing is loaded from
// elsewhere: no validator badge (validatorUrl null), no remote fonts.
window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  persistAuthorization: false,
  docExpansion: 'list',
  defaultModelsExpandDepth: 0,
});
