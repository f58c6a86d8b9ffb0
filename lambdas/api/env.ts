/** The API function's environment, set by the CordonApi construct through lib/environment.ts. It acts on the hub only. */
import { z } from 'zod';
import { IntakePolicy } from '../intake/decide';
import { envJson, envText } from '../shared/env';
import type { ApiConfig } from './api';

export const Env = z
  .object({
    /** The response workflow (StartExecution, DescribeExecution; SendTaskSuccess answers its approval task). */
    RESPONSE_STATE_MACHINE_ARN: envText,
    /** The release workflow (StartExecution). */
    RELEASE_STATE_MACHINE_ARN: envText,
    /** The incident ledger (GetItem, Query on `byResponseId`; UpdateItem for approval decisions). */
    LEDGER_TABLE: envText,
    /** Intake's policy JSON (account and region scope). */
    INTAKE_POLICY: envJson(IntakePolicy),
  })
  .transform(
    (v): ApiConfig => ({
      responseStateMachineArn: v.RESPONSE_STATE_MACHINE_ARN,
      releaseStateMachineArn: v.RELEASE_STATE_MACHINE_ARN,
      ledgerTable: v.LEDGER_TABLE,
      policy: v.INTAKE_POLICY,
    }),
  );
