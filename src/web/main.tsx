import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import './i18n';
import { App } from './App';
import { startTheme } from './lib/theme';
import { keepReturnAddress } from './lib/return-address';
import './styles.css';

startTheme();
// Before the first render, so the address bar holds no return address the pages would read.
keepReturnAddress();

/**
 * Server state (TanStack Query). Answers are kept fresh by invalidation after each change,
 * not by timers; a failed read is not retried behind the reader's back, since every error
 * the API gives (401, 403, 429) means something to show.
 */
const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: false, refetchOnWindowFocus: true, staleTime: 5_000 },
    mutations: { retry: false },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
