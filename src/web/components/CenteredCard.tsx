import type { ReactNode } from 'react';
import { chooseLanguage } from '../i18n';
import { LanguagePicker, ThemeToggle } from './Preferences';

/** The single card with the product's mark that the login and setup pages stand on, with the language and the scheme below. */
export function CenteredCard({ wide = false, children }: { wide?: boolean; children: ReactNode }) {
  return (
    <main className="centered" id="content">
      <div className={`card ${wide ? 'setup-card' : 'login-card'}`}>
        <div className="login-brand">
          <img src="/favicon.svg" alt="" width="40" height="40" />
          <span>Latchkey</span>
        </div>
        {children}
        <div className="preferences-bar">
          <LanguagePicker onChosen={(language) => void chooseLanguage(language)} />
          <ThemeToggle />
        </div>
      </div>
    </main>
  );
}
