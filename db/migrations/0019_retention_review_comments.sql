-- The retention sweep deletes review comments past the policy's reviewComments period.
GRANT DELETE ON review_comments TO roster_app;
