// Light or dark: follows the system unless the user picked one, which is kept in
// localStorage. The choice is written to <html data-theme>, and app.css derives
// every colour from `color-scheme` through light-dark().
export type ThemeChoice = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'lanspread.theme';
const CHOICES: readonly ThemeChoice[] = ['system', 'light', 'dark'];

function stored(): ThemeChoice {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return CHOICES.includes(value as ThemeChoice) ? (value as ThemeChoice) : 'system';
  } catch {
    return 'system';
  }
}

class ThemeStore {
  choice = $state<ThemeChoice>('system');

  /** Reads the stored choice and applies it; call once at start. */
  load(): void {
    this.set(stored(), false);
  }

  set(choice: ThemeChoice, persist = true): void {
    this.choice = choice;
    if (choice === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = choice;
    if (!persist) return;
    try {
      if (choice === 'system') window.localStorage.removeItem(STORAGE_KEY);
      else window.localStorage.setItem(STORAGE_KEY, choice);
    } catch {
      // storage disabled: the choice lasts for this page
    }
  }

  /** system → the opposite of what the system shows → the other → system */
  cycle(): void {
    const systemDark = window.matchMedia('(prefers-color-scheme: dark)').matches;
    const order: ThemeChoice[] = systemDark ? ['system', 'light', 'dark'] : ['system', 'dark', 'light'];
    this.set(order[(order.indexOf(this.choice) + 1) % order.length] ?? 'system');
  }
}

export const theme = new ThemeStore();
