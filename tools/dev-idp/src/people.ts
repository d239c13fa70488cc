/**
 * The development identity provider's people. DEMO ONLY: their passwords are printed by `npm run demo` and
 * written here; a real deployment signs people in at the organisation's identity provider.
 */
export interface DevPerson {
  username: string;
  password: string;
  name: string;
  email: string;
  /** The `groups` claim: OIDC_ROLE_MAP's default maps openecm-viewer, openecm-approver and openecm-admin to roles. */
  groups: string[];
  /** What the demo says about them. */
  about: string;
}

export const DEV_PEOPLE: readonly DevPerson[] = [
  {
    username: 'ada',
    password: 'ada-demo-only',
    name: 'Ada Admin',
    email: 'ada@example.test',
    groups: ['openecm-admin', 'openecm-viewer'],
    about: 'admin and viewer',
  },
  {
    username: 'vera',
    password: 'vera-demo-only',
    name: 'Vera Viewer',
    email: 'vera@example.test',
    groups: ['openecm-viewer'],
    about: 'viewer: reads the reports',
  },
  {
    username: 'abe',
    password: 'abe-demo-only',
    name: 'Abe Approver',
    email: 'abe@example.test',
    groups: ['openecm-approver'],
    about: 'approver only: signs in, may not read the reports',
  },
  {
    username: 'nora',
    password: 'nora-demo-only',
    name: 'Nora Nobody',
    email: 'nora@example.test',
    groups: ['staff'],
    about: 'no console role: refused',
  },
];
