//! Gathers the raw Directory API data of one customer: the customer, every user, every role and
//! every role assignment, each list followed through `nextPageToken`. O(pages) requests; the four
//! lists are read at the same time within the client's bound. No mapping and no verdicts here.

use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::raw::{
    Customer, Fetched, RawDirectory, ReadFailure, Role, RoleAssignment, RoleAssignmentsPage,
    RolesPage, User, UsersPage,
};

/// The Directory API's base path under the API root.
pub const DIRECTORY: &str = "/admin/directory/v1";

/// Pages followed at most per list: a server that keeps answering with a token must not keep
/// the collector busy forever (10,000 pages of 500 users is five million users).
const MAX_PAGES: usize = 10_000;

/// Reads everything the mapping needs.
pub async fn fetch_directory(client: &Client) -> RawDirectory {
    let customer_path = format!("{DIRECTORY}/customers/my_customer");
    let users_path = format!("{DIRECTORY}/users");
    let roles_path = format!("{DIRECTORY}/customer/my_customer/roles");
    let assignments_path = format!("{DIRECTORY}/customer/my_customer/roleassignments");
    let customer = client.get_json::<Customer>(&customer_path, &[]);
    let users = pages::<UsersPage, User>(
        client,
        &users_path,
        &[
            ("customer", "my_customer"),
            ("projection", "full"),
            ("maxResults", "500"),
            ("orderBy", "email"),
        ],
        |p| (p.users, p.next_page_token),
    );
    let roles = pages::<RolesPage, Role>(client, &roles_path, &[("maxResults", "100")], |p| {
        (p.items, p.next_page_token)
    });
    let assignments = pages::<RoleAssignmentsPage, RoleAssignment>(
        client,
        &assignments_path,
        &[("maxResults", "200")],
        |p| (p.items, p.next_page_token),
    );
    let (customer, users, roles, assignments) = tokio::join!(customer, users, roles, assignments);
    RawDirectory {
        customer,
        users,
        roles,
        assignments,
    }
}

/// Every item of a paginated list; one unreadable page makes the whole list unknown (a partial
/// list would let the users never seen look compliant).
async fn pages<P: DeserializeOwned, T>(
    client: &Client,
    path: &str,
    query: &[(&str, &str)],
    split: impl Fn(P) -> (Vec<T>, Option<String>),
) -> Fetched<Vec<T>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut q: Vec<(&str, &str)> = query.to_vec();
        if let Some(t) = &token {
            q.push(("pageToken", t.as_str()));
        }
        let page: P = client.get_json(path, &q).await?;
        let (items, next) = split(page);
        out.extend(items);
        match next.filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
    Err(ReadFailure::new(format!(
        "GET {path}: more than {MAX_PAGES} pages; the list was not read to its end"
    )))
}
