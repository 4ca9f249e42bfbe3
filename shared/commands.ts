// Everything the dashboard, the REST API and the CLI ask of the runtime.
import type { GameFile } from './api.js';

export type PeerCommand =
  | { type: 'ListGames' }
  /** `install: false` stops after the download (default: install it) */
  | { type: 'GetGame'; id: string; install?: boolean }
  | { type: 'FetchLatestFromPeers'; id: string; install?: boolean }
  | { type: 'DownloadGameFiles'; id: string; files: GameFile[]; install?: boolean }
  | { type: 'StreamInstallGame'; id: string }
  | { type: 'InstallGame'; id: string }
  | { type: 'UninstallGame'; id: string }
  | { type: 'RemoveDownloadedGame'; id: string }
  | { type: 'CancelDownload'; id: string }
  | { type: 'SetGameDir'; path: string }
  | { type: 'GetPeerCount' };

export type PeerCommandType = PeerCommand['type'];
