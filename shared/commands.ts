// Everything the dashboard, the REST API and the CLI ask of the runtime.
import type { GameFile } from './api.js';

export type PeerCommand =
  | { type: 'ListGames' }
  | { type: 'GetGame'; id: string }
  | { type: 'FetchLatestFromPeers'; id: string }
  | { type: 'DownloadGameFiles'; id: string; files: GameFile[] }
  | { type: 'StreamInstallGame'; id: string }
  | { type: 'InstallGame'; id: string }
  | { type: 'UninstallGame'; id: string }
  | { type: 'RemoveDownloadedGame'; id: string }
  | { type: 'CancelDownload'; id: string }
  | { type: 'SetGameDir'; path: string }
  | { type: 'GetPeerCount' };

export type PeerCommandType = PeerCommand['type'];
