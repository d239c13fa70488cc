export { bullConnection, bullPrefix } from '@openecm/service-kit';
