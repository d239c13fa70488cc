import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { consoleConfig, loadConfig } from '@openecm/config';
import { ConsoleAssetPath, ConsolePagePath, ConsoleSessionPagePath, OpenEcmError, parseOrThrow } from '@openecm/contracts';
import type { Request, Response } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * The console's pages run scripts and styles of this origin only, call this origin only, and cannot be framed.
 * Inline styles are allowed: the grid and the chart position their cells and tooltips with style attributes;
 * no inline script or eval is.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_CONFIGURED = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>OpenECM console</title></head>
  <body>
    <h1>OpenECM console</h1>
    <p>Sign-in to the console is not configured: set OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_REDIRECT_URI (see the README).</p>
  </body>
</html>
`;

const NOT_BUILT = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>OpenECM console</title></head>
  <body>
    <h1>OpenECM console</h1>
    <p>The console has not been built: run <code>npm run build</code> (or set CONSOLE_DIR to a built console).</p>
  </body>
</html>
`;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/**
 * Where the built console is: CONSOLE_DIR, else dist/apps/console, found from the compiled gateway
 * (dist/apps/appliance-gateway/src/console) or from its sources in a checkout.
 */
export function consoleDir(configured: string | undefined, here = __dirname): string | undefined {
  const candidates = configured ? [resolve(configured)] : [join(here, '../../../console'), join(here, '../../../../dist/apps/console')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'assets')));
}

/** The console under `/console`: every page path answers the same page (the app routes in the browser), and its assets. */
@Controller('console')
export class ConsolePagesHttpController {
  private readonly config = loadConfig(consoleConfig);
  private readonly dir = consoleDir(this.config.CONSOLE_DIR);
  private index?: string;
  /** Assets never change under their hashed names: each is read and compressed once. */
  private readonly assets = new Map<string, { plain: Buffer; gzip: Buffer }>();

  private page(res: Response): void {
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    if (!this.config.OIDC_ISSUER) {
      res.send(NOT_CONFIGURED);
      return;
    }
    if (!this.dir) {
      res.send(NOT_BUILT);
      return;
    }
    this.index ??= readFileSync(join(this.dir, 'index.html'), 'utf8');
    res.send(this.index);
  }

  @Get()
  home(@Res() res: Response): void {
    this.page(res);
  }

  @Get(':page')
  appPage(@Param() params: Record<string, string>, @Res() res: Response): void {
    parseOrThrow(ConsolePagePath, { ...params }, 'path');
    this.page(res);
  }

  @Get('sessions/:sessionId')
  sessionPage(@Param() params: Record<string, string>, @Res() res: Response): void {
    parseOrThrow(ConsoleSessionPagePath, { ...params }, 'path');
    this.page(res);
  }

  @Get('assets/:file')
  asset(@Param() params: Record<string, string>, @Req() req: Request, @Res() res: Response): void {
    const { file } = parseOrThrow(ConsoleAssetPath, { ...params }, 'path');
    let asset = this.assets.get(file);
    if (!asset) {
      const path = this.dir ? join(this.dir, 'assets', file) : undefined;
      if (!path || !existsSync(path)) throw new OpenEcmError('NOT_FOUND', 'no such file of the console');
      const plain = readFileSync(path);
      asset = { plain, gzip: gzipSync(plain) };
      this.assets.set(file, asset);
    }
    res.setHeader('Content-Type', TYPES[extname(file)] ?? 'application/octet-stream');
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('Content-Security-Policy', CONSOLE_CSP);
    res.setHeader('Vary', 'Accept-Encoding');
    if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      res.setHeader('Content-Encoding', 'gzip');
      res.send(asset.gzip);
      return;
    }
    res.send(asset.plain);
  }
}
