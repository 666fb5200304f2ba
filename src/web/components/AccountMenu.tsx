import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LOCALE_NAMES, LOCALES, type Locale } from '../../shared/locales';
import { navigate } from '../lib/router';

/** The signed-in admin's email in the upper right; it opens the personal menu: sessions, authenticators, language, log out. */
export function AccountMenu({ email, onLogout, onLanguage }: { email: string; onLogout: () => void; onLanguage: (language: Locale) => void }) {
  const { t, i18n } = useTranslation();
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLUListElement>(null);

  useEffect(() => {
    if (!open) return;
    menuRef.current?.querySelector<HTMLButtonElement>('button')?.focus();
    const onPointer = (event: PointerEvent) => {
      if (!menuRef.current?.contains(event.target as Node) && !buttonRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer);
    return () => document.removeEventListener('pointerdown', onPointer);
  }, [open]);

  const close = () => {
    setOpen(false);
    buttonRef.current?.focus();
  };

  const onKeyDown = (event: React.KeyboardEvent) => {
    const items = [...(menuRef.current?.querySelectorAll<HTMLButtonElement>('button') ?? [])];
    const index = items.indexOf(document.activeElement as HTMLButtonElement);
    if (event.key === 'Escape') close();
    else if (event.key === 'ArrowDown') {
      event.preventDefault();
      items[(index + 1) % items.length]?.focus();
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      items[(index - 1 + items.length) % items.length]?.focus();
    }
  };

  return (
    <div className="account" onKeyDown={onKeyDown}>
      <button
        ref={buttonRef}
        type="button"
        className="account-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={menuId}
        onClick={() => setOpen((value) => !value)}
      >
        {email}
      </button>
      {open && (
        <ul className="menu" id={menuId} role="menu" ref={menuRef} aria-label={t('account.menu')}>
          <li role="none">
            <button type="button" role="menuitem" onClick={() => { setOpen(false); navigate('/sessions'); }}>
              {t('account.sessions')}
            </button>
          </li>
          <li role="none">
            <button type="button" role="menuitem" onClick={() => { setOpen(false); navigate('/authenticators'); }}>
              {t('account.authenticators')}
            </button>
          </li>
          <li role="none" className="menu-group">
            <span className="menu-group-label" id={`${menuId}-language`}>
              {t('preferences.language')}
            </span>
            <ul role="group" aria-labelledby={`${menuId}-language`}>
              {LOCALES.map((language) => (
                <li role="none" key={language}>
                  <button type="button" role="menuitemradio" aria-checked={i18n.resolvedLanguage === language} lang={language} onClick={() => { setOpen(false); onLanguage(language); }}>
                    {LOCALE_NAMES[language]}
                  </button>
                </li>
              ))}
            </ul>
          </li>
          <li role="none">
            <button type="button" role="menuitem" onClick={() => { setOpen(false); onLogout(); }}>
              {t('account.logout')}
            </button>
          </li>
        </ul>
      )}
    </div>
  );
}
