import { navigate } from '../lib/router';

export function HomePage({ admin }: { admin: { name: string; email: string } }) {
  return (
    <section className="panel narrow">
      <h1>Welcome, {admin.name}</h1>
      <p>
        You are signed in as <strong>{admin.email}</strong>. Administrators, their multi-factor authentication and their
        setup emails are managed in the <strong>Administrators</strong> window, in the menu under your email address at
        the top right.
      </p>
      <p>
        <button type="button" className="button-primary" onClick={() => navigate('/admins')}>
          Open Administrators
        </button>
      </p>
    </section>
  );
}
