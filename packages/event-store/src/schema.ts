import type { Generated } from 'kysely';

/** Kysely's view of the event store's own tables (read models describe theirs in `projections`). */
export interface EventStoreTables {
  events: {
    global_position: Generated<number>;
    stream_id: string;
    stream_position: number;
    type: string;
    data: string;
    metadata: string;
    recorded_at: string;
  };
  checkpoints: {
    name: string;
    position: number;
    updated_at: string;
  };
  store_meta: {
    key: string;
    value: string;
  };
  leases: {
    name: string;
    owner: string;
    expires_at: number;
  };
}
