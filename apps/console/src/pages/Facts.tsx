/** A time as the person's browser shows it, or a dash when there is none. */
export const when = (value: string | null | undefined) => (value ? new Date(value).toLocaleString() : '—');

/** Labelled values of one thing (a session, an approval request), in the order given. */
export function Facts({ facts }: { facts: ReadonlyArray<readonly [string, string]> }) {
  return (
    <dl className="facts">
      {facts.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
