/** Connections: the `connections` table, connecting, pausing and resuming, and each connection's sync jobs. */
export {
  activeConnections,
  deleteConnection,
  getConnection,
  getOwnConnection,
  listConnections,
  liveConnectionByNangoId,
  markConnectionError,
  markConnectionSynced,
  recordConnection,
  staleConnections,
  upsertConnection,
  type ConnectionInput,
  type ConnectionKey,
  type ConnectionRef,
  type ConnectionView,
  type RecordedConnection,
  type RecordOutcome,
} from './connections';
export { connectFromFrontend } from './connect';
export { pauseConnection, resumeConnection, type ConnectionSummary } from './pause-resume';
export { cancelSyncs, enqueueSyncs, incrementalSyncInput } from './sync-jobs';
