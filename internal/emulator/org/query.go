package org
