// What other projects may use of the development identity provider: its seeded people (the server itself runs
// as its own process, started by path).
export { DEV_PEOPLE, type DevPerson } from './people';
