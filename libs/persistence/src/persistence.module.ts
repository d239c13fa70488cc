import { Global, Module, type DynamicModule, type OnApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { openServiceDataSource, type ServiceDataSourceOptions } from './data-source';

@Injectable()
class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** Provides the owning service's TypeORM DataSource, migrated before the app starts serving. */
@Global()
@Module({})
export class PersistenceModule {
  static forService(options: ServiceDataSourceOptions): DynamicModule {
    return {
      module: PersistenceModule,
      providers: [
        { provide: DataSource, useFactory: () => openServiceDataSource(options) },
        DataSourceCloser,
      ],
      exports: [DataSource],
    };
  }
}
