/**
 * Light or dark. The console follows the system's `prefers-color-scheme` until someone
 * picks one with the toggle; the choice is kept in this browser. The scheme is set as
 * `<html data-theme>`, which styles.css turns into its colours.
 */
import { useEffect, useState } from 'react';

export type Scheme = 'light' | 'dark';
const STORAGE_KEY = 'latchkey.theme';
const media = () => window.matchMedia('(prefers-color-scheme: dark)');

function storedScheme(): Scheme | null {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return value === 'light' || value === 'dark' ? value : null;
  } catch {
    return null;
  }
}

export function currentScheme(): Scheme {
  return storedScheme() ?? (media().matches ? 'dark' : 'light');
}

function apply(scheme: Scheme): void {
  document.documentElement.dataset.theme = scheme;
}

/** Sets the scheme at start and follows the system's while no choice is kept. */
export function startTheme(): void {
  apply(currentScheme());
  media().addEventListener('change', () => {
    if (!storedScheme()) apply(currentScheme());
    window.dispatchEvent(new Event('latchkey-theme'));
  });
}

export function chooseScheme(scheme: Scheme): void {
  try {
    window.localStorage.setItem(STORAGE_KEY, scheme);
  } catch {
    // Kept for this page only.
  }
  apply(scheme);
  window.dispatchEvent(new Event('latchkey-theme'));
}

/** The scheme shown now, updated when it changes. */
export function useScheme(): Scheme {
  const [scheme, setScheme] = useState(currentScheme);
  useEffect(() => {
    const update = () => setScheme(currentScheme());
    window.addEventListener('latchkey-theme', update);
    return () => window.removeEventListener('latchkey-theme', update);
  }, []);
  return scheme;
}
