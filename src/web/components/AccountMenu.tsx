import { useEffect, useId, useRef, useState } from 'react';
import { navigate } from '../lib/router';

/** The signed-in admin's email in the upper right; it opens the menu with Administrators. */
export function AccountMenu({ email, onLogout }: { email: string; onLogout: () => void }) {
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
        <ul className="menu" id={menuId} role="menu" ref={menuRef} aria-label="Account">
          <li role="none">
            <button type="button" role="menuitem" onClick={() => { setOpen(false); navigate('/admins'); }}>
              Administrators
            </button>
          </li>
          <li role="none">
            <button type="button" role="menuitem" onClick={() => { setOpen(false); navigate('/audit'); }}>
              Audit log
            </button>
          </li>
          <li role="none">
            <button type="button" role="menuitem" onClick={() => { setOpen(false); navigate('/settings'); }}>
              Settings
            </button>
          </li>
          <li role="none">
            <button type="button" role="menuitem" onClick={() => { setOpen(false); navigate('/sessions'); }}>
              My sessions
            </button>
          </li>
          <li role="none">
            <button type="button" role="menuitem" onClick={() => { setOpen(false); navigate('/authenticators'); }}>
              My authenticators
            </button>
          </li>
          <li role="none">
            <button type="button" role="menuitem" onClick={() => { setOpen(false); navigate('/api-keys'); }}>
              API keys
            </button>
          </li>
          <li role="none">
            <button type="button" role="menuitem" onClick={() => { setOpen(false); onLogout(); }}>
              Log out
            </button>
          </li>
        </ul>
      )}
    </div>
  );
}
