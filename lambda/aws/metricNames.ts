/**
 * The run's CloudWatch metrics (EMF, namespace = the stack name, dimension `service` = POWERTOOLS_SERVICE_NAME):
 * the handlers emit them, the stack's dashboard and alarm read them. Pure names, so infra/ loads no Powertools.
 */
export const METRIC = {
  /** Rows finished in a chunk, one metric per status (dimension Status). */
  rows: 'Rows',
  /** The portal's limit refusals in a chunk (QUERY_LIMIT_EXCEEDED, OPERATION_TIME_LIMIT, 429…; dimension Code). */
  limitErrors: 'LimitErrors',
  /** Seconds the chunk's sender waited for the portal's limits. */
  throttleWait: 'ThrottleWaitSeconds',
  /** Requests the chunk sent to the portal. */
  requests: 'Requests',
  /** The chunk's rows per second of its working time. */
  rowsPerSecond: 'RowsPerSecond',
  /** Per run (finalize): failed rows as a percentage of the run's rows. */
  failedRowShare: 'FailedRowShare',
} as const;

export const DIMENSION = { status: 'Status', code: 'Code', service: 'service' } as const;
