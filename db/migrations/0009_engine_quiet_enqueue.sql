-- Engine: enqueue step jobs without NOTIFY (the worker nudges itself), one-call startRuns.
SELECT 1;
