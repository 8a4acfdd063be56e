//! The async half of Identity Center collection: the `sso-admin` and `identitystore` calls of
//! one account's credentials, in its region, turned into [`super`]'s raw data.
//!
//! AWS offers no batched read: each permission set costs five calls (`DescribePermissionSet`,
//! `ListManagedPoliciesInPermissionSet`, `ListCustomerManagedPolicyReferencesInPermissionSet`,
//! `GetInlinePolicyForPermissionSet`, `ListAccountsForProvisionedPermissionSet`) plus one
//! `ListAccountAssignments` listing per account it is provisioned to, and each group one
//! `ListGroupMemberships` listing. At most `concurrency` permission sets, then (permission set,
//! account) pairs, and groups are read at once. Every failure is kept beside the data it would have produced; nothing is interpreted
//! here, and no user attribute beyond names is copied (no e-mail, phone number or address).

use std::future::Future;
use std::sync::Arc;

use aws_config::SdkConfig;
use tokio::sync::Semaphore;

use super::{
    PermissionSetDescription, RawAccountAssignments, RawAssignment, RawGroup, RawIdentityCenter,
    RawInstance, RawPermissionSet, RawUser,
};
use crate::api_calls::ApiCallCounter;
use crate::fetch::{call_error, CallLog};
use crate::raw::{Fetched, ReadFailure};

/// The largest page `sso-admin` and `identitystore` listings accept.
pub const PAGE_SIZE: i32 = 100;

/// The clients of one account's Identity Center reads.
#[derive(Debug, Clone)]
struct Clients {
    sso: aws_sdk_ssoadmin::Client,
    store: aws_sdk_identitystore::Client,
    log: Arc<CallLog>,
    permits: Arc<Semaphore>,
}

/// Reads every Identity Center instance visible to `config`'s credentials in its region;
/// requests are counted by `counter` and, per operation, in `log`.
pub async fn identity_center(
    config: &SdkConfig,
    account_id: &str,
    partition: &str,
    counter: &ApiCallCounter,
    log: Arc<CallLog>,
    concurrency: usize,
) -> RawIdentityCenter {
    let region = config.region().map_or_else(
        || crate::collect::DEFAULT_REGION.to_string(),
        |r| r.to_string(),
    );
    let clients = Clients {
        sso: aws_sdk_ssoadmin::Client::from_conf(
            aws_sdk_ssoadmin::config::Builder::from(config)
                .interceptor(counter.clone())
                .build(),
        ),
        store: aws_sdk_identitystore::Client::from_conf(
            aws_sdk_identitystore::config::Builder::from(config)
                .interceptor(counter.clone())
                .build(),
        ),
        log,
        permits: Arc::new(Semaphore::new(concurrency.max(1))),
    };
    let instances = match instances(&clients).await {
        Ok(list) => {
            let mut out = Vec::with_capacity(list.len());
            for (instance_arn, identity_store_id, owner_account_id) in list {
                let (permission_sets, users, groups) = tokio::join!(
                    permission_sets(&clients, &instance_arn),
                    users(&clients, &identity_store_id),
                    groups(&clients, &identity_store_id),
                );
                out.push(RawInstance {
                    instance_arn,
                    identity_store_id,
                    owner_account_id,
                    permission_sets,
                    users,
                    groups,
                });
            }
            Ok(out)
        }
        Err(e) => Err(e),
    };
    RawIdentityCenter {
        account_id: account_id.to_string(),
        partition: partition.to_string(),
        region,
        instances,
    }
}

/// `(instance ARN, identity store id, owner account)` of each instance.
async fn instances(c: &Clients) -> Fetched<Vec<(String, String, Option<String>)>> {
    const OP: &str = "ListInstances";
    let mut pages = c
        .sso
        .list_instances()
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        c.log.record(OP);
        let page = page.map_err(|e| call_error(OP, &e))?;
        for i in page.instances() {
            match (i.instance_arn(), i.identity_store_id()) {
                (Some(arn), Some(store)) => out.push((
                    arn.to_string(),
                    store.to_string(),
                    i.owner_account_id().map(str::to_string),
                )),
                _ => {
                    return Err(ReadFailure::new(
                        OP,
                        "an instance has no InstanceArn or IdentityStoreId",
                    ))
                }
            }
        }
    }
    Ok(out)
}

/// Runs `tasks` at most `permits` at a time; results in order. A task that panicked (none
/// should) becomes a failure of `operation`.
async fn bounded<T, F>(
    permits: &Arc<Semaphore>,
    operation: &str,
    tasks: Vec<F>,
) -> Vec<Result<T, ReadFailure>>
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
{
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|task| {
            let permits = Arc::clone(permits);
            tokio::spawn(async move {
                // The semaphore is never closed, so acquiring only waits.
                let _permit = permits.acquire_owned().await;
                task.await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(
            handle
                .await
                .map_err(|e| ReadFailure::new(operation, format!("read task failed: {e}"))),
        );
    }
    out
}

async fn permission_sets(c: &Clients, instance_arn: &str) -> Fetched<Vec<RawPermissionSet>> {
    const OP: &str = "ListPermissionSets";
    let mut pages = c
        .sso
        .list_permission_sets()
        .instance_arn(instance_arn)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut arns = Vec::new();
    while let Some(page) = pages.next().await {
        c.log.record(OP);
        let page = page.map_err(|e| call_error(OP, &e))?;
        arns.extend(page.permission_sets().iter().cloned());
    }
    // First each permission set's own calls, `concurrency` sets at a time.
    let tasks: Vec<_> = arns
        .into_iter()
        .map(|arn| {
            let c = c.clone();
            let instance_arn = instance_arn.to_string();
            async move { permission_set(&c, &instance_arn, arn).await }
        })
        .collect();
    let mut sets = bounded(&c.permits, "DescribePermissionSet", tasks)
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    // Then one assignment listing per (permission set, account), `concurrency` at a time across
    // all permission sets, so that a few permission sets provisioned to many accounts are read
    // as fast as many permission sets.
    let mut pairs = Vec::new();
    for (i, set) in sets.iter().enumerate() {
        for (j, account) in set.accounts.iter().flatten().enumerate() {
            pairs.push((i, j, set.arn.clone(), account.account_id.clone()));
        }
    }
    let tasks: Vec<_> = pairs
        .iter()
        .map(|(_, _, arn, account)| {
            let c = c.clone();
            let (instance_arn, arn, account) =
                (instance_arn.to_string(), arn.clone(), account.clone());
            async move { assignments(&c, &instance_arn, &arn, &account).await }
        })
        .collect();
    let listed = bounded(&c.permits, "ListAccountAssignments", tasks).await;
    for ((i, j, _, _), result) in pairs.into_iter().zip(listed) {
        let slot = sets
            .get_mut(i)
            .and_then(|set| set.accounts.as_mut().ok())
            .and_then(|accounts| accounts.get_mut(j));
        if let Some(slot) = slot {
            slot.assignments = result.and_then(|r| r);
        }
    }
    Ok(sets)
}

async fn permission_set(c: &Clients, instance_arn: &str, arn: String) -> RawPermissionSet {
    RawPermissionSet {
        description: describe(c, instance_arn, &arn).await,
        managed_policies: managed_policies(c, instance_arn, &arn).await,
        customer_managed_policies: customer_managed_policies(c, instance_arn, &arn).await,
        inline_policy: inline_policy(c, instance_arn, &arn).await,
        accounts: accounts(c, instance_arn, &arn).await,
        arn,
    }
}

async fn describe(c: &Clients, instance_arn: &str, arn: &str) -> Fetched<PermissionSetDescription> {
    const OP: &str = "DescribePermissionSet";
    c.log.record(OP);
    let out = c
        .sso
        .describe_permission_set()
        .instance_arn(instance_arn)
        .permission_set_arn(arn)
        .send()
        .await
        .map_err(|e| call_error(OP, &e))?;
    let set = out
        .permission_set()
        .ok_or_else(|| ReadFailure::new(OP, "the response has no PermissionSet"))?;
    Ok(PermissionSetDescription {
        name: set
            .name()
            .ok_or_else(|| ReadFailure::new(OP, "the permission set has no Name"))?
            .to_string(),
        description: set.description().map(str::to_string),
        session_duration: set.session_duration().map(str::to_string),
    })
}

async fn managed_policies(c: &Clients, instance_arn: &str, arn: &str) -> Fetched<Vec<String>> {
    const OP: &str = "ListManagedPoliciesInPermissionSet";
    let mut pages = c
        .sso
        .list_managed_policies_in_permission_set()
        .instance_arn(instance_arn)
        .permission_set_arn(arn)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        c.log.record(OP);
        let page = page.map_err(|e| call_error(OP, &e))?;
        for p in page.attached_managed_policies() {
            out.push(
                p.arn()
                    .ok_or_else(|| ReadFailure::new(OP, "an attached policy has no Arn"))?
                    .to_string(),
            );
        }
    }
    Ok(out)
}

async fn customer_managed_policies(
    c: &Clients,
    instance_arn: &str,
    arn: &str,
) -> Fetched<Vec<String>> {
    const OP: &str = "ListCustomerManagedPolicyReferencesInPermissionSet";
    let mut pages = c
        .sso
        .list_customer_managed_policy_references_in_permission_set()
        .instance_arn(instance_arn)
        .permission_set_arn(arn)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        c.log.record(OP);
        let page = page.map_err(|e| call_error(OP, &e))?;
        out.extend(
            page.customer_managed_policy_references()
                .iter()
                .map(|r| format!("{}{}", r.path().unwrap_or("/"), r.name())),
        );
    }
    Ok(out)
}

async fn inline_policy(c: &Clients, instance_arn: &str, arn: &str) -> Fetched<Option<String>> {
    const OP: &str = "GetInlinePolicyForPermissionSet";
    c.log.record(OP);
    let out = c
        .sso
        .get_inline_policy_for_permission_set()
        .instance_arn(instance_arn)
        .permission_set_arn(arn)
        .send()
        .await
        .map_err(|e| call_error(OP, &e))?;
    // No inline policy comes back as an empty string.
    Ok(out
        .inline_policy()
        .filter(|p| !p.trim().is_empty())
        .map(str::to_string))
}

async fn accounts(
    c: &Clients,
    instance_arn: &str,
    arn: &str,
) -> Fetched<Vec<RawAccountAssignments>> {
    const OP: &str = "ListAccountsForProvisionedPermissionSet";
    let mut pages = c
        .sso
        .list_accounts_for_provisioned_permission_set()
        .instance_arn(instance_arn)
        .permission_set_arn(arn)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut ids = Vec::new();
    while let Some(page) = pages.next().await {
        c.log.record(OP);
        let page = page.map_err(|e| call_error(OP, &e))?;
        ids.extend(page.account_ids().iter().cloned());
    }
    // Listed afterwards by `permission_sets`; until then, never an empty list.
    Ok(ids
        .into_iter()
        .map(|account_id| RawAccountAssignments {
            account_id,
            assignments: Err(ReadFailure::new(
                "ListAccountAssignments",
                "the assignments were not listed",
            )),
        })
        .collect())
}

async fn assignments(
    c: &Clients,
    instance_arn: &str,
    arn: &str,
    account_id: &str,
) -> Fetched<Vec<RawAssignment>> {
    const OP: &str = "ListAccountAssignments";
    let mut pages = c
        .sso
        .list_account_assignments()
        .instance_arn(instance_arn)
        .permission_set_arn(arn)
        .account_id(account_id)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        c.log.record(OP);
        let page = page.map_err(|e| call_error(OP, &e))?;
        for a in page.account_assignments() {
            match (a.principal_type(), a.principal_id()) {
                (Some(t), Some(id)) => out.push(RawAssignment {
                    principal_type: t.as_str().to_string(),
                    principal_id: id.to_string(),
                }),
                _ => {
                    return Err(ReadFailure::new(
                        OP,
                        "an assignment has no PrincipalType or PrincipalId",
                    ))
                }
            }
        }
    }
    Ok(out)
}

async fn users(c: &Clients, identity_store_id: &str) -> Fetched<Vec<RawUser>> {
    const OP: &str = "ListUsers";
    let mut pages = c
        .store
        .list_users()
        .identity_store_id(identity_store_id)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        c.log.record(OP);
        let page = page.map_err(|e| call_error(OP, &e))?;
        out.extend(page.users().iter().map(|u| RawUser {
            user_id: u.user_id().to_string(),
            user_name: u.user_name().map(str::to_string),
            display_name: u.display_name().map(str::to_string),
        }));
    }
    Ok(out)
}

async fn groups(c: &Clients, identity_store_id: &str) -> Fetched<Vec<RawGroup>> {
    const OP: &str = "ListGroups";
    let mut pages = c
        .store
        .list_groups()
        .identity_store_id(identity_store_id)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut listed = Vec::new();
    while let Some(page) = pages.next().await {
        c.log.record(OP);
        let page = page.map_err(|e| call_error(OP, &e))?;
        listed.extend(page.groups().iter().map(|g| {
            (
                g.group_id().to_string(),
                g.display_name().map(str::to_string),
            )
        }));
    }
    let tasks: Vec<_> = listed
        .into_iter()
        .map(|(group_id, display_name)| {
            let c = c.clone();
            let store = identity_store_id.to_string();
            async move {
                RawGroup {
                    members: members(&c, &store, &group_id).await,
                    group_id,
                    display_name,
                }
            }
        })
        .collect();
    bounded(&c.permits, "ListGroupMemberships", tasks)
        .await
        .into_iter()
        .collect()
}

async fn members(c: &Clients, identity_store_id: &str, group_id: &str) -> Fetched<Vec<String>> {
    const OP: &str = "ListGroupMemberships";
    let mut pages = c
        .store
        .list_group_memberships()
        .identity_store_id(identity_store_id)
        .group_id(group_id)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        c.log.record(OP);
        let page = page.map_err(|e| call_error(OP, &e))?;
        out.extend(
            page.group_memberships()
                .iter()
                .filter_map(|m| m.member_id()?.as_user_id().ok().cloned()),
        );
    }
    Ok(out)
}
