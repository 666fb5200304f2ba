import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { LOCALE_NAMES, LOCALES, type Locale } from '../../shared/locales';
import { chooseScheme, useScheme } from '../lib/theme';

/** The language menu; `onChosen` also keeps the choice as the administrator's preference. */
export function LanguagePicker({ onChosen }: { onChosen: (language: Locale) => void }) {
  const { t, i18n } = useTranslation();
  const id = useId();
  return (
    <div className="language-picker">
      <label htmlFor={id}>{t('preferences.language')}</label>
      <select id={id} value={i18n.resolvedLanguage} onChange={(event) => onChosen(event.target.value as Locale)}>
        {LOCALES.map((language) => (
          <option key={language} value={language} lang={language}>
            {LOCALE_NAMES[language]}
          </option>
        ))}
      </select>
    </div>
  );
}

/** Dark mode on or off: a toggle button, whose pressed state says which is shown. */
export function ThemeToggle() {
  const { t } = useTranslation();
  const scheme = useScheme();
  return (
    <button type="button" className="button-ghost theme-toggle" aria-pressed={scheme === 'dark'} onClick={() => chooseScheme(scheme === 'dark' ? 'light' : 'dark')}>
      <span aria-hidden="true">{scheme === 'dark' ? '☾' : '☀'}</span> {t('preferences.darkMode')}
    </button>
  );
}
