"""The job engine's parts: leases that keep two workers from one job, the analysis of a new master, which step
makes each profile, the checks every output must pass, storing outputs as renditions, local copies of stored
files, and the chunks of a long ladder shared among workers. ``services.transcode_job_run`` drives them."""
