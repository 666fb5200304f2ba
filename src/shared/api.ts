/**
 * The public API's shapes (API.md), as TypeBox schemas: the server validates with them
 * and documents them in OpenAPI; the console imports the static types.
 */
import { Type, type Static } from '@sinclair/typebox';

export const EMAIL_MAX_LENGTH = 254;
export const NAME_MAX_LENGTH = 200;
/** Upper bound on what the API accepts as a password string (UTF-16 units). */
export const PASSWORD_FIELD_MAX_LENGTH = 4096;

export const Email = Type.String({
  minLength: 3,
  maxLength: EMAIL_MAX_LENGTH,
  // One @, something on each side, no spaces or control characters.
  pattern: '^[^\\s@\\u0000-\\u001f\\u007f]+@[^\\s@\\u0000-\\u001f\\u007f]+$',
  description: 'Email address; compared case-insensitively.',
  examples: ['ada@example.org'],
});

export const Name = Type.String({
  minLength: 1,
  maxLength: NAME_MAX_LENGTH,
  // Printable text: no control characters and no markup.
  pattern: '^(?!\\s*$)[^\\u0000-\\u001f\\u007f-\\u009f<>]+$',
  description: 'Display name: printable text without < or >.',
  examples: ['Ada Lovelace'],
});

export const Password = Type.String({ minLength: 1, maxLength: PASSWORD_FIELD_MAX_LENGTH });

export const AdminStatus = Type.Union([Type.Literal('invited'), Type.Literal('active'), Type.Literal('suspended')]);

export const Admin = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String(),
    name: Type.String(),
    status: AdminStatus,
    mfaRequired: Type.Boolean({ description: 'Enable MultiFactor Authentication for Admin Login' }),
    mfaEnrolled: Type.Boolean({ description: 'An authenticator app is confirmed.' }),
    createdAt: Type.String({ format: 'date-time' }),
    lastLoginAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'Admin' },
);
export type Admin = Static<typeof Admin>;

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable, snake_case; see the error table.' }),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'The request field at fault, when there is one.' })),
    }),
  },
  { $id: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const LoginBody = Type.Object({ email: Type.String({ maxLength: EMAIL_MAX_LENGTH }), password: Password });
export type LoginBody = Static<typeof LoginBody>;

export const LoginResult = Type.Object({
  status: Type.Union([Type.Literal('authenticated'), Type.Literal('mfa_required')]),
  methods: Type.Optional(Type.Array(Type.String())),
});
export type LoginResult = Static<typeof LoginResult>;

export const SessionInfo = Type.Object({
  admin: Type.Object({ id: Type.String(), email: Type.String(), name: Type.String() }),
  status: Type.Union([Type.Literal('authenticated'), Type.Literal('mfa_required')]),
});
export type SessionInfo = Static<typeof SessionInfo>;

export const CreateAdminBody = Type.Object(
  { email: Email, name: Name, mfaRequired: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);
export type CreateAdminBody = Static<typeof CreateAdminBody>;

export const UpdateAdminBody = Type.Object(
  {
    name: Type.Optional(Name),
    mfaRequired: Type.Optional(Type.Boolean()),
    status: Type.Optional(
      Type.Union([Type.Literal('active'), Type.Literal('suspended')], {
        description: 'Suspend an administrator (ends their sessions) or lift a suspension.',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateAdminBody = Static<typeof UpdateAdminBody>;

export const AdminEnvelope = Type.Object({ admin: Type.Ref(Admin) });
export const AdminList = Type.Object({ admins: Type.Array(Type.Ref(Admin)) });
export const AdminIdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
