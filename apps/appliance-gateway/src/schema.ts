/** The Postgres schema this service owns; nothing else reads or writes it. */
export const GATEWAY_SCHEMA = 'gateway';
