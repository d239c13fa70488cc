import './tracing';
import { gatewayConfig, loadConfig } from '@openecm/config';
import { startService } from '@openecm/service-kit';
import { AppModule } from './app.module';
import { gatewayHttpsOptions } from './edge/tls';
import { configureGateway } from './http-setup';

const config = loadConfig(gatewayConfig);

void Promise.resolve()
  .then(() =>
    startService({
      name: 'appliance-gateway',
      module: AppModule,
      port: config.GATEWAY_PORT,
      host: config.GATEWAY_HOST,
      configure: configureGateway,
      httpsOptions: gatewayHttpsOptions(config),
    }),
  )
  .catch((error: Error) => {
    process.stderr.write(`appliance-gateway failed to start: ${error.name}: ${error.message}\n`);
    process.exit(1);
  });
