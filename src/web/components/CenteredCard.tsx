import type { ReactNode } from 'react';

/** The single card with the product's mark that the login and setup pages stand on. */
export function CenteredCard({ wide = false, children }: { wide?: boolean; children: ReactNode }) {
  return (
    <main className="centered">
      <div className={`card ${wide ? 'setup-card' : 'login-card'}`}>
        <div className="login-brand">
          <img src="/favicon.svg" alt="" width="40" height="40" />
          <span>Latchkey</span>
        </div>
        {children}
      </div>
    </main>
  );
}
