import { useEffect, useId, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

interface DialogProps {
  title: string;
  open: boolean;
  onClose: () => void;
  children: ReactNode;
}

/**
 * A modal built on <dialog>: showModal() makes the rest of the page inert, so focus stays
 * inside, and Escape closes it (the browser's `cancel` event).
 */
export function Dialog({ title, open, onClose, children }: DialogProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const opener = useRef<Element | null>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
      // The first field gets focus, not the Close button (which showModal would pick).
      const first = dialog.querySelector<HTMLElement>(
        // Not a hidden username field (for password managers), which holds no focus.
        '.dialog-body input:not([type=hidden]):not([hidden]):not([disabled]):not([aria-hidden=true]), .dialog-body select, .dialog-body textarea, .dialog-body [data-autofocus]',
      );
      first?.focus();
    } else if (!open && dialog.open) {
      dialog.close();
      // Give focus back to whatever opened the dialog.
      if (opener.current instanceof HTMLElement) opener.current.focus();
    }
  }, [open]);

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      // A dialog may open over another one (Confirm it is you over Details): React passes
      // events up its own tree, so neither a submit nor a close may reach the dialog below.
      onSubmit={(event) => event.stopPropagation()}
      onCancel={(event) => {
        event.preventDefault();
        event.stopPropagation();
        onClose();
      }}
      onClose={(event) => {
        event.stopPropagation();
        if (open) onClose();
      }}
    >
      <div className="dialog-header">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="button-ghost" onClick={onClose}>
          {t('dialog.close')}
        </button>
      </div>
      {open && <div className="dialog-body">{children}</div>}
    </dialog>
  );
}
