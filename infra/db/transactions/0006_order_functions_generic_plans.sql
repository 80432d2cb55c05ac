-- The order's statements run on generic plans, planned once per server connection.
--
-- PL/pgSQL caches each statement's plan, but for a statement with parameters the plan cache
-- keeps choosing a custom plan (planned again at every call, for the parameter values) as
-- long as the custom plans' estimated cost is below the generic plan's. With the arrays of
-- a one-photo order (the generic plan guesses 10 elements per unnest() / = ANY) that was
-- always so: auto_explain showed the 50th order of one connection still planned with its
-- literal values (the account lock, the ownership check, the re-check join through the
-- sale-status view, ...), about ten plannings per order. Every one of these statements is
-- a lookup by a primary or unique key or an insert from unnest(), whose generic plan is the
-- same index lookup, for one photo or fifty.
--
-- Measured, one connection, 580 one-photo orders each, alternating (PostgreSQL 15, 2 shared
-- cores): backend CPU 1.47 / 1.74 / 1.59 ms per order before, 1.12 / 1.16 / 1.35 after.
--
-- A function's SET lasts for its call (nested calls included: place_order_checked calls
-- hold_photos_for_sale and place_order) and is undone when it returns.
ALTER FUNCTION place_order_checked(uuid, text, text, text, char(3), bigint, text, text[], text[], bigint[],
                                   bigint[], bigint[], bigint[], bigint[], bigint)
    SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION place_order(uuid, text, text, text, char(3), bigint, text, text[], text[], bigint[],
                           bigint[], bigint[], bigint[], bigint[], bigint)
    SET plan_cache_mode = force_generic_plan;
