#pragma once

// What the two halves of the document builder share: the runs' sections (reportbuilder.cpp)
// and the studies' (reportstudies.cpp). Private to widgets/report.

#include <string>
#include <vector>

#include <QImage>
#include <QString>
#include <QStringList>

#include "report/reportdocument.h"

namespace ll::report {

struct StudyReport;

/// One study's section: a new page in the PDF, its numbers as tables, its charts as pictures.
void studySection(Document& doc, const StudyReport& study);

namespace blocks {

QString q(const std::string& s);
/// `v` to `digits` significant digits; NaN as a dash.
QString number(double v, int digits = 4);
Block text(Block::Kind kind, const QString& text);
Block table(QStringList header, std::vector<QStringList> rows);
/// A picture at most a page wide; small tiles drawn bigger, pixel for pixel.
Block image(QImage picture, QStringList labels, const QString& caption);

}  // namespace blocks

}  // namespace ll::report
