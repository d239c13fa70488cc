import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { API_DOCS_ASSETS, ApiDocsAssetPath, OpenEcmError } from '@openecm/contracts';
import type { Response } from 'express';
import { dirname, join } from 'node:path';
import { buildOpenApiDocument, type OpenApiDocument } from './openapi-document';

/**
 * The reference page loads only what the gateway serves: scripts from this origin, no inline script, no
 * eval; the one call it makes is for the document. Swagger UI sets inline styles and draws its icons from
 * data: URIs, so those two are allowed; neither can run code.
 */
export const API_DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

// Relative references, so the page also works behind a reverse proxy that serves the gateway under a prefix.
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>OpenECM appliance gateway API</title>
    <link rel="stylesheet" href="docs/assets/swagger-ui.css">
    <link rel="stylesheet" href="docs/assets/index.css">
  </head>
  <body>
    <div id="reference"></div>
    <script src="docs/assets/swagger-ui-bundle.js"></script>
    <script src="docs/assets/start.js"></script>
  </body>
</html>
`;

// No validator badge: Swagger UI would send the document to validator.swagger.io for it.
const START = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: 'openapi.json',
    dom_id: '#reference',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
`;

const SWAGGER_UI_DIST = dirname(require.resolve('swagger-ui-dist/package.json'));

type Asset = (typeof API_DOCS_ASSETS)[number];
const CONTENT_TYPES: Record<Asset, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'start.js': 'text/javascript; charset=utf-8',
};

/** `GET /api/openapi.json` and the reference page at `GET /api/docs`; no authentication, nothing from a CDN. */
@Controller('api')
export class ApiDocsHttpController {
  private document?: OpenApiDocument;

  @Get('openapi.json')
  openApiDocument(): OpenApiDocument {
    this.document ??= buildOpenApiDocument();
    return this.document;
  }

  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', API_DOCS_CSP)
  page(): string {
    return PAGE;
  }

  @Get('docs/assets/:file')
  async asset(@Param('file') file: string, @Res() res: Response): Promise<void> {
    const parsed = ApiDocsAssetPath.safeParse({ file });
    if (!parsed.success) throw new OpenEcmError('NOT_FOUND', 'no such file');
    const name = parsed.data.file;
    res.setHeader('Content-Type', CONTENT_TYPES[name]);
    res.setHeader('Cache-Control', 'public, max-age=3600');
    if (name === 'start.js') {
      res.send(START);
      return;
    }
    await new Promise<void>((resolve, reject) =>
      res.sendFile(join(SWAGGER_UI_DIST, name), (error?: Error) => (error ? reject(error) : resolve())),
    );
  }
}
