import './tracing';
import { loadConfig, opsHttpConfig } from '@openecm/config';
import { startService } from '@openecm/service-kit';
import { AppModule } from './app.module';

void startService({
  name: 'session-reporting',
  module: AppModule,
  port: loadConfig(opsHttpConfig).HTTP_PORT,
  host: loadConfig(opsHttpConfig).OPS_HOST,
}).catch((error: Error) => {
  process.stderr.write(`session-reporting failed to start: ${error.name}: ${error.message}\n`);
  process.exit(1);
});
