import type { ConsoleSession, ConsoleSignInFailure } from '@openecm/contracts';
import { useEffect, useState } from 'react';
import { ApiProblem, loadSession, signIn, signOut } from './api';
import { Approvals } from './pages/Approvals';
import { Dashboard } from './pages/Dashboard';
import { Grid } from './pages/Grid';
import { SessionDetail } from './pages/SessionDetail';
import { APPROVALS_PATH, navigate, useRoute } from './router';

const SIGN_IN_FAILURES: Record<ConsoleSignInFailure, string> = {
  'no-role': 'You signed in, but your account has no OpenECM console role. Ask your administrator for the viewer role.',
  refused: 'The identity provider did not sign you in.',
  expired: 'The sign-in took too long or was started in another window. Please sign in again.',
  failed: 'The sign-in could not be completed. Please try again.',
};

function SignIn({ session }: { session: ConsoleSession }) {
  const failure = new URLSearchParams(window.location.search).get('signin') as ConsoleSignInFailure | null;
  const [error, setError] = useState<string | null>(null);
  const returnTo = failure ? '/console' : `${window.location.pathname}${window.location.search}`;
  return (
    <main className="sign-in">
      <h1>OpenECM console</h1>
      {failure && SIGN_IN_FAILURES[failure] ? (
        <p className="error" role="alert" data-testid="sign-in-failure">
          {SIGN_IN_FAILURES[failure]}
        </p>
      ) : null}
      {session.configured ? (
        <button type="button" onClick={() => signIn(returnTo).catch((e: Error) => setError(e.message))}>
          Sign in
        </button>
      ) : (
        <p>Sign-in to the console is not configured.</p>
      )}
      {error ? <p className="error">{error}</p> : null}
    </main>
  );
}

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<ConsoleSession | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    loadSession().then(setSession, (e: Error) => setError(e instanceof ApiProblem ? e.message : 'the gateway cannot be reached'));
  }, []);

  if (error) return <p className="error">{error}</p>;
  if (!session) return <p className="loading">Loading…</p>;
  if (!session.signedIn || !session.person) return <SignIn session={session} />;
  const person = session.person;
  const viewer = person.roles.includes('viewer');
  const approver = person.roles.includes('approver');
  const link = (to: string, label: string, testId?: string) => (
    <a href={to} data-testid={testId} onClick={(e) => (e.preventDefault(), navigate(to))}>
      {label}
    </a>
  );

  return (
    <>
      <header className="top">
        <a
          className="brand"
          href="/console"
          onClick={(e) => {
            e.preventDefault();
            navigate('/console');
          }}
        >
          OpenECM
        </a>
        <nav>
          {viewer ? (
            <>
              {link('/console', 'Dashboard')}
              {link('/console/sessions', 'Sessions')}
              {link('/console/events', 'Events')}
            </>
          ) : null}
          {approver ? link(APPROVALS_PATH, 'Approvals', 'nav-approvals') : null}
        </nav>
        <span className="person" data-testid="person">
          {person.name} <small>({person.roles.join(', ')})</small>
        </span>
        <button type="button" onClick={() => void signOut().catch((e: Error) => setError(e.message))}>
          Sign out
        </button>
      </header>
      <main>
        {route.page === 'approvals' ? (
          approver ? (
            <Approvals person={person} />
          ) : (
            <p className="error" role="alert" data-testid="no-approver">
              You are signed in as {person.name}, but approvals need the approver role. Ask your administrator for it.
            </p>
          )
        ) : !viewer ? (
          <p className="error" role="alert" data-testid="no-viewer">
            You are signed in as {person.name}, but the reports need the viewer role.
            {approver ? <> Requests waiting for your decision are under {link(APPROVALS_PATH, 'Approvals')}.</> : null}
          </p>
        ) : route.page === 'dashboard' ? (
          <Dashboard />
        ) : route.page === 'grid' ? (
          <Grid key={`${route.grid}?${route.query.toString()}`} grid={route.grid} initial={route.query} />
        ) : (
          <SessionDetail id={route.id} />
        )}
      </main>
    </>
  );
}
