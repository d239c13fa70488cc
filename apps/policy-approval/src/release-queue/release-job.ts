/** The only thing a release job carries: the lease id, which is also the job id. Never a secret. */
export interface ReleaseJob {
  leaseId: string;
}

export const RELEASE_QUEUE = 'lease-release';
export const RELEASE_JOB = 'release';
