import type { CodeFieldProps } from '../view';

/** Six digits, as the app shows them: people type or paste "123 456", so a space is let in and taken out before sending. */
export const TOTP_CODE_FIELD: CodeFieldProps = { name: 'code', inputMode: 'numeric', autoComplete: 'one-time-code', pattern: '[0-9 ]*', maxLength: 9, className: 'code-input' };

export const withoutSpaces = (code: string) => code.replace(/\s+/g, '');
