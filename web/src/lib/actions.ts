// What each card action is called, which ones ask first, and the API call behind each.
import type { Game } from '../../../shared/api.js';
import { api } from './api.js';
import type { GameAction } from './library.js';

export const ACTION_LABELS: Record<GameAction, string> = {
  download: 'Download',
  stream: 'Stream install',
  update: 'Update',
  install: 'Install',
  uninstall: 'Uninstall',
  remove: 'Remove files',
  cancel: 'Cancel',
};

/** Destructive actions ask once more; the question names the game after this text. */
export const CONFIRM_QUESTIONS: Partial<Record<GameAction, string>> = {
  uninstall: 'Uninstall',
  remove: 'Delete the downloaded files of',
};

export const PRIMARY_ACTIONS: ReadonlySet<GameAction> = new Set(['download', 'install', 'update']);

export function callAction(action: GameAction, id: string): Promise<Game> {
  switch (action) {
    case 'download':
      return api.download(id);
    case 'stream':
      return api.download(id, true);
    case 'update':
      return api.update(id);
    case 'install':
      return api.install(id);
    case 'uninstall':
      return api.uninstall(id);
    case 'remove':
      return api.removeFiles(id);
    case 'cancel':
      return api.cancel(id);
  }
}
