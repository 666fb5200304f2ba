import { useTranslation } from 'react-i18next';
import type { Role } from '../../shared/roles';
import { navigate } from '../lib/router';

/** The console's places. Every role reads all of them; what each may change is shown on the page. */
const PLACES: Array<{ path: string; key: string; roles?: readonly Role[] }> = [
  { path: '/', key: 'nav.home' },
  { path: '/admins', key: 'nav.administrators' },
  { path: '/applications', key: 'nav.applications' },
  { path: '/audit', key: 'nav.audit' },
  { path: '/settings', key: 'nav.settings' },
  { path: '/api-keys', key: 'nav.apiKeys' },
];

export function Nav({ path, role }: { path: string; role: Role }) {
  const { t } = useTranslation();
  return (
    <nav className="main-nav" aria-label={t('nav.label')}>
      <ul>
        {PLACES.filter((place) => !place.roles || place.roles.includes(role)).map((place) => (
          <li key={place.path}>
            <a
              href={place.path}
              aria-current={path === place.path ? 'page' : undefined}
              onClick={(event) => {
                if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
                event.preventDefault();
                navigate(place.path);
              }}
            >
              {t(place.key)}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
