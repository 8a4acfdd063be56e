//! Rules judged on the store's own values, without building Cedar's entity store.
//!
//! Cedar's `eval_expression` needs an entity store, and building one for every chunk of
//! resources (maps, uids hashed, values cloned) cost about as much as evaluating the rules. Each
//! rule's expressions are translated here, once, from Cedar's own syntax tree into a small tree
//! that reads the attributes the store already holds ([`Store::attr`]). Every operation on
//! values is Cedar's own (`binary_relation`, `binary_arith`, the extension functions, the set
//! operations): what is written here is only the walk and where values come from.
//!
//! It never decides alone what Cedar might decide otherwise: anything it does not handle — an
//! operator it does not know, a type error, an overflow, an entity outside the store, a value
//! Cedar would leave unknown — is [`Ask`], and the engine asks Cedar, whose answer (and error
//! message) stands. A test checks that every rule judges the same both ways on the demo data
//! and on generated snapshots.

use std::borrow::Cow;

use cedar_policy_core::ast::{
    BinaryOp, EntityType, EntityUID, Expr, ExprKind, ExtensionFunction, Literal, PartialValue,
    Pattern, Set, UnaryOp, Value, ValueKind, Var,
};
use cedar_policy_core::evaluator::{binary_arith, binary_relation, unary_app};
use cedar_policy_core::extensions::Extensions;
use smol_str::SmolStr;

use crate::entities::Store;

/// This evaluator cannot answer: Cedar must.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ask;

/// An expression of a rule, ready to be judged without Cedar's store.
#[derive(Debug)]
pub(crate) struct Native(Node);

#[derive(Debug)]
enum Node {
    Lit(Value),
    Var(Var),
    If(Box<[Node; 3]>),
    And(Box<[Node; 2]>),
    Or(Box<[Node; 2]>),
    Unary(UnaryOp, Box<Node>),
    Binary(BinaryOp, Box<[Node; 2]>),
    Call(&'static ExtensionFunction, Vec<Node>),
    GetAttr(Box<Node>, SmolStr),
    HasAttr(Box<Node>, Vec<SmolStr>),
    Like(Box<Node>, Pattern),
    Is(Box<Node>, EntityType),
    Set(Vec<Node>),
    Record(Vec<(SmolStr, Node)>),
}

/// What an evaluation reads besides the store: the resource judged and the request's variables.
pub(crate) struct Env<'a> {
    /// Where entities' attributes are read.
    pub store: &'a Store,
    /// The resource judged, by its index in [`Store::resources`].
    pub resource: usize,
    /// `context`: `{ now, params }`.
    pub context: &'a Value,
    /// `principal`.
    pub principal: &'a Value,
    /// `action`.
    pub action: &'a Value,
}

impl Native {
    /// The expression translated, or `None` when it uses something this evaluator leaves to
    /// Cedar (template slots, unknowns, entity tags, an operator added after this was written).
    pub(crate) fn compile(expr: &Expr) -> Option<Self> {
        node(expr, 0).map(Native)
    }

    /// The expression's value as a whole number (a rule's outcome: 0, 1 or 2).
    pub(crate) fn long(&self, env: &Env<'_>) -> Result<i64, Ask> {
        match eval(&self.0, env)?.value(env.store)?.value_kind() {
            ValueKind::Lit(Literal::Long(n)) => Ok(*n),
            _ => Err(Ask),
        }
    }

    /// The expression's value as a boolean (a rule's `applies` or `requirement` part).
    pub(crate) fn bool(&self, env: &Env<'_>) -> Result<bool, Ask> {
        eval(&self.0, env)?.bool()
    }
}

/// How deep a translated expression may nest: the walk recurses, and a deeper rule (never seen
/// in practice) is left to Cedar, which checks its own stack.
const DEEPEST: usize = 64;

fn node(expr: &Expr, depth: usize) -> Option<Node> {
    if depth >= DEEPEST {
        return None;
    }
    let node = |e: &Expr| node(e, depth + 1);
    let boxed = |e: &Expr| node(e).map(Box::new);
    Some(match expr.expr_kind() {
        ExprKind::Lit(lit) => Node::Lit(Value::from(lit.clone())),
        ExprKind::Var(var) => Node::Var(*var),
        ExprKind::If {
            test_expr,
            then_expr,
            else_expr,
        } => Node::If(Box::new([
            node(test_expr)?,
            node(then_expr)?,
            node(else_expr)?,
        ])),
        ExprKind::And { left, right } => Node::And(Box::new([node(left)?, node(right)?])),
        ExprKind::Or { left, right } => Node::Or(Box::new([node(left)?, node(right)?])),
        ExprKind::UnaryApp { op, arg } => match op {
            UnaryOp::Not | UnaryOp::Neg | UnaryOp::IsEmpty => Node::Unary(*op, boxed(arg)?),
        },
        ExprKind::BinaryApp { op, arg1, arg2 } => match op {
            BinaryOp::Eq
            | BinaryOp::Less
            | BinaryOp::LessEq
            | BinaryOp::Add
            | BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::In
            | BinaryOp::Contains
            | BinaryOp::ContainsAll
            | BinaryOp::ContainsAny => Node::Binary(*op, Box::new([node(arg1)?, node(arg2)?])),
            BinaryOp::GetTag | BinaryOp::HasTag => return None,
        },
        ExprKind::ExtensionFunctionApp { fn_name, args } => {
            let function = Extensions::all_available().func(fn_name).ok()?;
            Node::Call(function, args.iter().map(&node).collect::<Option<_>>()?)
        }
        ExprKind::GetAttr { expr, attr } => Node::GetAttr(boxed(expr)?, attr.clone()),
        ExprKind::HasAttr { expr, attr } => Node::HasAttr(boxed(expr)?, vec![attr.clone()]),
        ExprKind::ExtHasAttr { expr, attrs } => {
            Node::HasAttr(boxed(expr)?, attrs.iter().cloned().collect())
        }
        ExprKind::Like { expr, pattern } => Node::Like(boxed(expr)?, pattern.clone()),
        ExprKind::Is { expr, entity_type } => Node::Is(boxed(expr)?, entity_type.clone()),
        ExprKind::Set(items) => Node::Set(items.iter().map(&node).collect::<Option<_>>()?),
        ExprKind::Record(fields) => Node::Record(
            fields
                .iter()
                .map(|(k, v)| Some((k.clone(), node(v)?)))
                .collect::<Option<_>>()?,
        ),
        ExprKind::Slot(_) | ExprKind::Unknown(_) => return None,
        #[allow(unreachable_patterns)]
        _ => return None,
    })
}

/// A value met during an evaluation: borrowed from the store or the rule where it can be.
enum Val<'a> {
    Ref(&'a Value),
    Own(Value),
    /// An entity of the store, by index: `resource`, or one reached through an attribute.
    Entity(usize),
}

impl<'a> Val<'a> {
    fn bool(&self) -> Result<bool, Ask> {
        match self {
            Val::Ref(v) => as_bool(v),
            Val::Own(v) => as_bool(v),
            Val::Entity(_) => Err(Ask),
        }
    }

    /// As Cedar's value (an entity becomes its uid).
    fn value(self, store: &'a Store) -> Result<Cow<'a, Value>, Ask> {
        Ok(match self {
            Val::Ref(v) => Cow::Borrowed(v),
            Val::Own(v) => Cow::Owned(v),
            Val::Entity(i) => Cow::Owned(Value::from(uid(store, i)?.clone())),
        })
    }

    /// The entity of the store this value names: `Ask` when it names none (Cedar's error or
    /// Cedar's `false` for an entity that does not exist is Cedar's to give).
    fn entity(&self, store: &Store) -> Result<usize, Ask> {
        match self {
            Val::Entity(i) => Ok(*i),
            Val::Ref(v) => entity_of(store, v),
            Val::Own(v) => entity_of(store, v),
        }
    }
}

fn as_bool(v: &Value) -> Result<bool, Ask> {
    match v.value_kind() {
        ValueKind::Lit(Literal::Bool(b)) => Ok(*b),
        _ => Err(Ask),
    }
}

fn as_set(v: &Value) -> Result<&Set, Ask> {
    match v.value_kind() {
        ValueKind::Set(set) => Ok(set),
        _ => Err(Ask),
    }
}

fn as_string(v: &Value) -> Result<&str, Ask> {
    match v.value_kind() {
        ValueKind::Lit(Literal::String(s)) => Ok(s),
        _ => Err(Ask),
    }
}

fn as_entity(v: &Value) -> Result<&EntityUID, Ask> {
    match v.value_kind() {
        ValueKind::Lit(Literal::EntityUID(uid)) => Ok(uid),
        _ => Err(Ask),
    }
}

fn entity_of(store: &Store, v: &Value) -> Result<usize, Ask> {
    match v.value_kind() {
        ValueKind::Lit(Literal::EntityUID(uid)) => store.index_of(uid).ok_or(Ask),
        _ => Err(Ask),
    }
}

fn uid(store: &Store, index: usize) -> Result<&EntityUID, Ask> {
    store
        .resources
        .get(index)
        .map(|r| AsRef::<EntityUID>::as_ref(&r.uid))
        .ok_or(Ask)
}

fn eval<'a>(node: &'a Node, env: &Env<'a>) -> Result<Val<'a>, Ask> {
    let store = env.store;
    Ok(match node {
        Node::Lit(v) => Val::Ref(v),
        Node::Var(Var::Resource) => Val::Entity(env.resource),
        Node::Var(Var::Context) => Val::Ref(env.context),
        Node::Var(Var::Principal) => Val::Ref(env.principal),
        Node::Var(Var::Action) => Val::Ref(env.action),
        Node::If(parts) => {
            let [test, then, otherwise] = parts.as_ref();
            if eval(test, env)?.bool()? {
                eval(then, env)?
            } else {
                eval(otherwise, env)?
            }
        }
        Node::And(parts) => {
            let [left, right] = parts.as_ref();
            let both = eval(left, env)?.bool()? && eval(right, env)?.bool()?;
            Val::Own(both.into())
        }
        Node::Or(parts) => {
            let [left, right] = parts.as_ref();
            let either = eval(left, env)?.bool()? || eval(right, env)?.bool()?;
            Val::Own(either.into())
        }
        Node::Unary(op, arg) => {
            let arg = eval(arg, env)?;
            match op {
                UnaryOp::Not => Val::Own((!arg.bool()?).into()),
                UnaryOp::IsEmpty => {
                    let v = arg.value(store)?;
                    Val::Own(as_set(&v)?.is_empty().into())
                }
                UnaryOp::Neg => {
                    Val::Own(unary_app(*op, arg.value(store)?.into_owned(), None).map_err(|_| Ask)?)
                }
            }
        }
        Node::Binary(op, args) => {
            let [left, right] = args.as_ref();
            binary(*op, eval(left, env)?, eval(right, env)?, store)?
        }
        Node::Call(function, args) => {
            let args = args
                .iter()
                .map(|a| Ok(eval(a, env)?.value(store)?.into_owned()))
                .collect::<Result<Vec<Value>, Ask>>()?;
            match function.call(&args) {
                Ok(PartialValue::Value(v)) => Val::Own(v),
                _ => return Err(Ask),
            }
        }
        // Missing: Cedar's error names the attributes there are.
        Node::GetAttr(of, name) => step(&eval(of, env)?, name, store)?.ok_or(Ask)?,
        Node::HasAttr(of, path) => Val::Own(has_path(eval(of, env)?, path, store)?.into()),
        Node::Like(of, pattern) => {
            let v = eval(of, env)?.value(store)?;
            let text = as_string(&v)?;
            Val::Own(pattern.wildcard_match(text).into())
        }
        Node::Is(of, entity_type) => {
            let is = match eval(of, env)? {
                Val::Entity(i) => uid(store, i)?.entity_type() == entity_type,
                other => {
                    let v = other.value(store)?;
                    as_entity(&v)?.entity_type() == entity_type
                }
            };
            Val::Own(is.into())
        }
        Node::Set(items) => {
            let values = items
                .iter()
                .map(|i| Ok(eval(i, env)?.value(store)?.into_owned()))
                .collect::<Result<Vec<Value>, Ask>>()?;
            Val::Own(Value::set(values, None))
        }
        Node::Record(fields) => {
            let values = fields
                .iter()
                .map(|(k, v)| Ok((k.clone(), eval(v, env)?.value(store)?.into_owned())))
                .collect::<Result<Vec<(SmolStr, Value)>, Ask>>()?;
            Val::Own(Value::record(values, None))
        }
    })
}

/// An attribute's value, an entity reference kept as one so that reading through it reads the
/// store (when the entity is in it).
fn through<'a>(v: &'a Value, store: &Store) -> Val<'a> {
    match v.value_kind() {
        ValueKind::Lit(Literal::EntityUID(uid)) => match store.index_of(uid) {
            Some(i) => Val::Entity(i),
            None => Val::Ref(v),
        },
        _ => Val::Ref(v),
    }
}

fn is_record(v: &Value) -> bool {
    matches!(v.value_kind(), ValueKind::Record(_))
}

fn field<'v>(record: &'v Value, name: &str) -> Result<&'v Value, Ask> {
    match record.value_kind() {
        ValueKind::Record(fields) => fields.get(name).ok_or(Ask),
        _ => Err(Ask),
    }
}

/// `of has a.b.c`, as Cedar walks it: each step on a record or an entity, `false` at the first
/// missing one.
fn has_path(of: Val<'_>, path: &[SmolStr], store: &Store) -> Result<bool, Ask> {
    let mut current = of;
    for name in path {
        match step(&current, name, store)? {
            Some(next) => current = next,
            None => return Ok(false),
        }
    }
    Ok(true)
}

/// The field or attribute `name` of a record or of an entity in the store; `None` when it has
/// none (Cedar's `has` says `false`, its `.` an error).
fn step<'a>(of: &Val<'a>, name: &str, store: &'a Store) -> Result<Option<Val<'a>>, Ask> {
    Ok(match of {
        Val::Ref(v) if is_record(v) => field(v, name).ok().map(|f| through(f, store)),
        Val::Own(v) if is_record(v) => field(v, name).ok().map(|f| Val::Own(f.clone())),
        other => store
            .attr(other.entity(store)?, name)
            .map(|v| through(v, store)),
    })
}

fn binary<'a>(
    op: BinaryOp,
    left: Val<'a>,
    right: Val<'a>,
    store: &'a Store,
) -> Result<Val<'a>, Ask> {
    let extensions = Extensions::all_available();
    Ok(match op {
        BinaryOp::Eq => match (&left, &right) {
            (Val::Entity(a), Val::Entity(b)) => Val::Own((a == b).into()),
            _ => {
                let (left, right) = (left.value(store)?, right.value(store)?);
                Val::Own(binary_relation(op, &left, &right, extensions).map_err(|_| Ask)?)
            }
        },
        BinaryOp::Less | BinaryOp::LessEq => {
            let (left, right) = (left.value(store)?, right.value(store)?);
            Val::Own(binary_relation(op, &left, &right, extensions).map_err(|_| Ask)?)
        }
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => {
            let (left, right) = (left.value(store)?, right.value(store)?);
            Val::Own(
                binary_arith(op, left.into_owned(), right.into_owned(), None).map_err(|_| Ask)?,
            )
        }
        BinaryOp::In => {
            let at = left.entity(store)?;
            let this = uid(store, at)?;
            let right = right.value(store)?;
            let within = match right.value_kind() {
                ValueKind::Lit(Literal::EntityUID(above)) => {
                    this == above.as_ref() || store.descends_from(at, above)
                }
                ValueKind::Set(set) => {
                    // Cedar checks that every member is an entity before it answers.
                    let members = set.iter().map(as_entity).collect::<Result<Vec<_>, Ask>>()?;
                    members
                        .into_iter()
                        .any(|above| this == above || store.descends_from(at, above))
                }
                _ => return Err(Ask),
            };
            Val::Own(within.into())
        }
        BinaryOp::Contains => {
            let (set, item) = (left.value(store)?, right.value(store)?);
            Val::Own(as_set(&set)?.contains(&item).into())
        }
        BinaryOp::ContainsAll | BinaryOp::ContainsAny => {
            let (left, right) = (left.value(store)?, right.value(store)?);
            let (a, b) = (as_set(&left)?, as_set(&right)?);
            let answer = if op == BinaryOp::ContainsAll {
                b.is_subset(a)
            } else {
                !a.is_disjoint(b)
            };
            Val::Own(answer.into())
        }
        BinaryOp::GetTag | BinaryOp::HasTag => return Err(Ask),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An expression nested deeper than the walk is meant to recurse is left to Cedar.
    #[test]
    fn deep_expressions_are_left_to_cedar() {
        let nested = |n: usize| format!("{}true{}", "!(".repeat(n), ")".repeat(n));
        let compile = |src: &str| {
            let expr: cedar_policy::Expression = src.parse().unwrap();
            Native::compile(expr.as_ref())
        };
        // Cedar's parser needs more than a test thread's stack for these in a debug build.
        let big = std::thread::Builder::new().stack_size(256 << 20);
        let (shallow, deep) = big
            .spawn(move || {
                (
                    compile(&nested(DEEPEST - 2)).is_some(),
                    compile(&nested(DEEPEST + 10)).is_none(),
                )
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(shallow && deep);
    }
}
