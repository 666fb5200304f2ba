/**
 * Input rules shared by the server's schemas and the console's forms, so that the console
 * can catch a mistake at the field while the server keeps the final word.
 */
export const EMAIL_MAX_LENGTH = 254;
export const NAME_MAX_LENGTH = 200;
/** Upper bound on what the API accepts as a password string (UTF-16 units). */
export const PASSWORD_FIELD_MAX_LENGTH = 4096;
export const PASSWORD_MIN_CHARACTERS = 15;

/** One @, something on each side, no spaces or control characters. */
export const EMAIL_PATTERN = '^[^\\s@\\u0000-\\u001f\\u007f]+@[^\\s@\\u0000-\\u001f\\u007f]+$';
/** Printable text: not blank, no control characters, no markup. */
export const NAME_PATTERN = '^(?!\\s*$)[^\\u0000-\\u001f\\u007f-\\u009f<>]+$';

export const NAME_INVALID_MESSAGE = 'Invalid characters found';
export const EMAIL_INVALID_MESSAGE = 'Enter an email address such as ada@example.org';
