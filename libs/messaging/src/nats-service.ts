/** Injection token: the name of the app a MessagingModule serves (MessagingModule.forService). */
export const NATS_SERVICE = Symbol('NATS_SERVICE');
