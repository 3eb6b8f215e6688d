package driver

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"strings"

	"github.com/plannersql/planner/graph"
)

// Discovery of the groups and plans scans cover, and the errors that say
// which permission or membership a sign-in lacks.

// ErrMissingPermission is matched (errors.Is) by scan errors caused by a
// permission the sign-in lacks: the error says which and what to do.
var ErrMissingPermission = errors.New("planner: the sign-in lacks a permission")

// permissionError is a scan error that errors.Is ErrMissingPermission; err,
// if any, is Graph's answer.
type permissionError struct {
	msg string
	err error
}

func (e *permissionError) Error() string        { return e.msg }
func (e *permissionError) Unwrap() error        { return e.err }
func (e *permissionError) Is(target error) bool { return target == ErrMissingPermission }

// memberGroups yields the Microsoft 365 groups the signed-in user is a
// member of (/me/memberOf). Without Group.Read.All or GroupMember.Read.All,
// Graph lists the user's groups with their id and type only (learn
// user-list-memberof: "limited information for inaccessible member
// objects"), so none can be recognised as a Microsoft 365 group: rather than
// cover no group at all, the listing is read to its end and fails with an
// error saying how many groups came back without properties and which
// permission is missing.
func (x *session) memberGroups(ctx context.Context) iter.Seq2[*graph.Group, error] {
	return func(yield func(*graph.Group, error) bool) {
		limited := 0
		for g, err := range x.g.Groups.ListMemberOf(ctx) {
			if err != nil {
				yield(nil, refusedListing(err, memberOfRefused))
				return
			}
			switch {
			case !g.IsGroup():
			case g.Limited():
				limited++
			case g.IsUnified():
				if limited == 0 && !yield(g, nil) {
					return
				}
			}
		}
		if limited > 0 {
			yield(nil, limitedGroupsError(limited))
		}
	}
}

func limitedGroupsError(n int) error {
	groups := "groups"
	if n == 1 {
		groups = "group"
	}
	return &permissionError{fmt.Sprintf("planner: /me/memberOf returned %d %s with no properties: the sign-in lacks Group.Read.All or GroupMember.Read.All, "+
		"so the groups holding plans cannot be found; add one of them to the Scope connection property "+
		"(e.g. Scope=\"Tasks.ReadWrite GroupMember.Read.All User.Read\") and sign in again, "+
		"or name the groups in GroupId, or use PlanScope=me (plans shared with you, Tasks.Read only)", n, groups), nil}
}

// refusedListing turns Graph's 403 to a listing that discovers the groups
// holding plans into an error saying which permission the sign-in lacks
// (ErrMissingPermission), instead of Graph's bare refusal; other errors
// pass as they are.
func refusedListing(err error, why string) error {
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.StatusCode != http.StatusForbidden || strings.HasPrefix(ge.Code, "Maximum") {
		return err
	}
	return &permissionError{fmt.Sprintf("planner: Graph answered %d %s to %s %s: %s: %v", ge.StatusCode, http.StatusText(ge.StatusCode), ge.Method, ge.Path, why, err), err}
}

const (
	memberOfRefused = "the sign-in lacks User.Read, which lists the groups holding plans (/me/memberOf); add it to the Scope connection property " +
		"(e.g. Scope=\"Tasks.ReadWrite GroupMember.Read.All User.Read\") and sign in again, " +
		"or name the groups in GroupId, or use PlanScope=me (plans shared with you, Tasks.Read only)"
	groupsRefused = "the application lacks the Group.Read.All or GroupMember.Read.All application permission, which lists the groups holding plans (/groups); " +
		"grant one to the app registration (with admin consent), or name the groups in GroupId"
)

// noPlannerPermission is the error of a scan whose every group Graph
// refused (403) although the sign-in reaches it: n groups, err the first
// refusal.
func noPlannerPermission(n int64, err error) error {
	groups := "groups"
	if n == 1 {
		groups = "group"
	}
	return &permissionError{fmt.Sprintf("planner: Graph refused (403) the plans of each of the %d %s the sign-in reaches: the sign-in lacks a Planner permission: "+
		"Tasks.Read (Tasks.ReadWrite to write) or Group.Read.All for a user, Tasks.Read.All (Tasks.ReadWrite.All) for an application; "+
		"add one to the Scope connection property (or grant it to the application) and sign in again: %v", n, groups, err), err}
}

// userTasksRefused explains Graph's 403 to a user's task list
// (/users/{id}/planner/tasks), which lists only what the sign-in may read:
// the sign-in lacks a Planner permission.
func userTasksRefused(userID string, err error) error {
	var ge *graph.Error
	if !errors.As(err, &ge) || strings.HasPrefix(ge.Code, "Maximum") {
		return err
	}
	return &permissionError{fmt.Sprintf("planner: Graph refused (403) the tasks assigned to user %s: the sign-in lacks a Planner permission: "+
		"Tasks.Read (Tasks.ReadWrite to write) or Group.Read.All for a user, Tasks.Read.All (Tasks.ReadWrite.All) for an application; "+
		"add one to the Scope connection property (or grant it to the application) and sign in again: %v", userID, err), err}
}

// planScopeMeRefused explains Graph's 400 to /me/planner/plans for an
// application's token: PlanScope=me needs a user's sign-in.
func planScopeMeRefused(err error) error {
	var ge *graph.Error
	if errors.As(err, &ge) && ge.StatusCode == http.StatusForbidden && !strings.HasPrefix(ge.Code, "Maximum") {
		// The user's own list: no membership is involved.
		return &permissionError{fmt.Sprintf("planner: PlanScope=me lists the plans shared with the signed-in user (/me/planner/plans), and Graph refused it (403): "+
			"the sign-in lacks Tasks.Read (Tasks.ReadWrite to write); add it to the Scope connection property and sign in again: %v", err), err}
	}
	if !errors.As(err, &ge) || ge.StatusCode != http.StatusBadRequest {
		return err
	}
	return fmt.Errorf("planner: PlanScope=me lists the plans shared with the signed-in user (/me/planner/plans), and the sign-in is an application's, which Graph refuses; "+
		"sign in as a user, or use PlanScope=groups (the default) or GroupId: %w", err)
}

// notUnified refuses a group named in GroupId that Graph reads as another
// kind than a Microsoft 365 group (a security or distribution group): it
// can hold no plan, so the id is likely the wrong one, and Groups lists
// Microsoft 365 groups only. Named on purpose, it is an error rather than
// a row left out without a word (see unreadableGroup).
func notUnified(id string, g *graph.Group) error {
	if g == nil || g.IsUnified() {
		return nil
	}
	kind := "a security group"
	if g.MailEnabled != nil && *g.MailEnabled {
		kind = "a distribution or mail-enabled security group"
	}
	name := ""
	if g.DisplayName != "" {
		name = fmt.Sprintf(" (%q)", g.DisplayName)
	}
	return fmt.Errorf("planner: GroupId %s%s is %s, not a Microsoft 365 group: only Microsoft 365 groups hold plans; correct or remove it in GroupId", id, name, kind)
}

// unreadableGroup explains why a group named in the GroupId connection
// property cannot be read, naming it and Graph's status; the Graph error is
// wrapped (errors.As finds the *graph.Error). doing is what failed, e.g.
// "listing its plans".
func unreadableGroup(id, doing string, err error) error {
	if errors.Is(err, graph.ErrInvalidID) {
		// Refused before any request: name the setting to correct.
		return fmt.Errorf("planner: GroupId %q is not a group id (a group id is a GUID such as 0f8fad5b-d9cb-469f-a165-70867728950e); correct or remove it in GroupId: %w", id, err)
	}
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return err
	}
	status := fmt.Sprintf("%d %s", ge.StatusCode, http.StatusText(ge.StatusCode))
	var why string
	switch {
	case ge.StatusCode == http.StatusNotFound:
		why = "no such group: it was deleted or the id is wrong; correct or remove it in GroupId"
	case ge.StatusCode == http.StatusBadRequest:
		why = "not a group id; correct it in GroupId"
	case ge.StatusCode == http.StatusForbidden && ge.Code == "Authorization_RequestDenied":
		return &permissionError{fmt.Sprintf("planner: GroupId %s: Graph answered %s %s: the sign-in lacks Group.Read.All or GroupMember.Read.All to read the group; "+
			"add one to the Scope connection property and sign in again: %v", id, status, doing, err), err}
	case ge.StatusCode == http.StatusForbidden:
		why = "the account is not a member of the group (a user reaches only the plans of groups they belong to), or the sign-in lacks a Planner permission " +
			"(Tasks.Read, or Tasks.Read.All for an application); remove it from GroupId, sign in as a member, or add the permission"
	default:
		return err
	}
	return fmt.Errorf("planner: GroupId %s: Graph answered %s %s: %s: %w", id, status, doing, why, err)
}
