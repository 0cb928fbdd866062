package rest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/sfbatch/sfbatch/emulator/org"
	"github.com/sfbatch/sfbatch/emulator/wire"
	"github.com/sfbatch/sfbatch/soql"
)

// queryColumns is the body of GET .../query?q=...&columns=true: the
// query's SELECT list described column by column instead of its rows. The
// Salesforce CLI reads it to lay out `sf data query` tables.
type queryColumns struct {
	ColumnMetadata []*columnMeta `json:"columnMetadata"`
	EntityName     string        `json:"entityName"`
	GroupBy        bool          `json:"groupBy"`
	IDSelected     bool          `json:"idSelected"`
	KeyPrefix      string        `json:"keyPrefix"`
}

// columnMeta is one column: a field of the queried object, a parent
// relationship (joinColumns holds its selected fields, nested the same way)
// or an aggregate (aggregate true, columnName exprN).
type columnMeta struct {
	Aggregate      bool          `json:"aggregate"`
	ApexType       *string       `json:"apexType"`
	BooleanType    bool          `json:"booleanType"`
	ColumnName     string        `json:"columnName"`
	Custom         bool          `json:"custom"`
	DisplayName    string        `json:"displayName"`
	ForeignKeyName *string       `json:"foreignKeyName"`
	Insertable     bool          `json:"insertable"`
	JoinColumns    []*columnMeta `json:"joinColumns"`
	NumberType     bool          `json:"numberType"`
	TextType       bool          `json:"textType"`
	Updatable      bool          `json:"updatable"`
}

// apexType is the Apex type of a field's values.
func apexType(t string) string {
	switch t {
	case org.TypeID, org.TypeReference:
		return "Id"
	case org.TypeBoolean:
		return "Boolean"
	case org.TypeInt:
		return "Integer"
	case org.TypeDouble, org.TypePercent:
		return "Double"
	case org.TypeCurrency:
		return "Decimal"
	case org.TypeDate:
		return "Date"
	case org.TypeDateTime:
		return "Datetime"
	default:
		return "String"
	}
}

func fieldColumn(f *org.Field, display string) *columnMeta {
	at := apexType(f.Type)
	return &columnMeta{
		ApexType:    &at,
		BooleanType: f.Type == org.TypeBoolean,
		ColumnName:  f.Name,
		Custom:      f.Custom,
		DisplayName: display,
		Insertable:  f.Createable,
		JoinColumns: []*columnMeta{},
		NumberType:  at == "Integer" || at == "Double" || at == "Decimal",
		TextType:    at == "String",
		Updatable:   f.Updateable,
	}
}

// writeQueryColumns answers a query with columns=true. The query is run
// first so that every error is the one the query itself would give.
func (h *Handler) writeQueryColumns(w http.ResponseWriter, q *request, text string, all bool) {
	if _, err := h.org.Query(q.r.Context(), text, all); err != nil {
		writeOrgError(w, err)
		return
	}
	pq, err := soql.Parse(text)
	if err != nil {
		wire.WriteError(w, http.StatusBadRequest, org.CodeMalformedQuery, err.Error())
		return
	}
	ob, _ := h.org.Object(pq.From)
	out := &queryColumns{ColumnMetadata: []*columnMeta{}, EntityName: ob.Name, KeyPrefix: ob.KeyPrefix}
	for i, item := range pq.Fields {
		switch it := item.(type) {
		case *soql.Count:
			at := "Integer"
			out.ColumnMetadata = append(out.ColumnMetadata, &columnMeta{
				Aggregate: true, ApexType: &at, ColumnName: "expr" + strconv.Itoa(i), DisplayName: it.String(),
				JoinColumns: []*columnMeta{}, NumberType: true,
			})
		case *soql.FieldRef:
			if len(it.Path) == 1 && strings.EqualFold(it.Path[0], "Id") {
				out.IDSelected = true
			}
			out.ColumnMetadata = addPath(out.ColumnMetadata, h.org, ob, it.Path, nil)
		}
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// addPath adds the column for path (relative to ob) to cols, merging
// fields reached through the same relationship under one join column.
// prefix is the relationship path above ob, for display names.
func addPath(cols []*columnMeta, o *org.Org, ob *org.Object, path, prefix []string) []*columnMeta {
	if len(path) == 1 {
		f, ok := ob.Field(path[0])
		if !ok {
			return cols
		}
		return append(cols, fieldColumn(f, strings.Join(append(append([]string{}, prefix...), f.Name), ".")))
	}
	ref, ok := ob.Relationship(path[0])
	if !ok || len(ref.ReferenceTo) == 0 {
		return cols
	}
	parent, ok := o.Object(ref.ReferenceTo[0])
	if !ok {
		return cols
	}
	rel := ref.RelationshipName
	var join *columnMeta
	for _, c := range cols {
		if c.ColumnName == rel && c.ApexType == nil {
			join = c
		}
	}
	if join == nil {
		join = &columnMeta{
			ColumnName:  rel,
			DisplayName: strings.Join(append(append([]string{}, prefix...), rel), "."),
			Custom:      ref.Custom,
			Insertable:  ref.Createable,
			Updatable:   ref.Updateable,
			JoinColumns: []*columnMeta{},
		}
		cols = append(cols, join)
	}
	join.JoinColumns = addPath(join.JoinColumns, o, parent, path[1:], append(append([]string{}, prefix...), rel))
	return cols
}
